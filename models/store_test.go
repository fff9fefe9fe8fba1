package models_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

func TestSQLiteFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	open(t, path)
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(name), mode)
		}
	}
}

// TestCloseWaitsForConnectionsStillHeld closes the database while a
// transaction still holds the writer's connection, as work cancelled at
// shutdown does until database/sql rolls it back: Close returns only once the
// connection is given back, and leaves the write-ahead log folded in.
func TestCloseWaitsForConnectionsStillHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := models.Open(context.Background(), path, modelstest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := sqlDB.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO settings (key, value) VALUES ('held', 'yes')"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- sqlDB.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a transaction held a connection", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("the write-ahead log is still there after Close (err %v)", err)
	}
}

// TestReadsDoNotWaitForWrites holds a write transaction open on the writer
// while readers list and count: they finish, and see the data as it was
// before the transaction.
func TestReadsDoNotWaitForWrites(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "p.db"))
	for i := range 50 {
		if err := db.Create(&models.Setting{Key: string(rune('a'+i%26)) + string(rune('a'+i/26)), Value: "before"}).Error; err != nil {
			t.Fatal(err)
		}
	}
	inTx, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&models.Setting{Key: "zz", Value: "uncommitted"}).Error; err != nil {
				return err
			}
			if err := tx.Model(&models.Setting{}).Where("1 = 1").Update("value", "changed").Error; err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx

	// The reads finishing while the transaction is held is the proof; the
	// deadline only turns a read stuck behind the writer into a failure, and
	// is generous: 640 reads can take seconds on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for range 20 {
				var n int64
				if err := db.WithContext(ctx).Model(&models.Setting{}).Count(&n).Error; err != nil {
					errs <- err
					return
				}
				var rows []models.Setting
				if err := db.WithContext(ctx).Where("value = ?", "before").Order("key").Find(&rows).Error; err != nil {
					errs <- err
					return
				}
				if n != 50 || len(rows) != 50 {
					t.Errorf("a reader saw %d rows, %d unchanged, during the write; want 50 and 50", n, len(rows))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("read while a write transaction was open: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.Model(&models.Setting{}).Where("value = ?", "changed").Count(&n).Error; err != nil || n != 51 {
		t.Errorf("after the commit a read sees %d changed rows (%v), want 51", n, err)
	}
}

// TestReadersAreReadOnly: a write forced onto the read pool fails instead of
// competing with the writer.
func TestReadersAreReadOnly(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "p.db"))
	err := db.Clauses(dbresolver.Read).Exec("INSERT INTO settings (key, value) VALUES ('k', 'v')").Error
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("a write on a reader connection: %v, want a read-only refusal", err)
	}
}

// TestTransactionReadsItsOwnWrites: reads inside a transaction stay on the
// writer, so they see what the transaction wrote.
func TestTransactionReadsItsOwnWrites(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "p.db"))
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&models.Setting{Key: "k", Value: "v"}).Error; err != nil {
			return err
		}
		var s models.Setting
		return tx.First(&s, "key = ?", "k").Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkReadWhileWriting reads a page while 16 writers queue for
// write transactions that each stay open 5 ms: the read's cost should not
// include the writers'.
func BenchmarkReadWhileWriting(b *testing.B) {
	db, err := models.Open(context.Background(), filepath.Join(b.TempDir(), "p.db"), modelstest.Logger())
	if err != nil {
		b.Fatal(err)
	}
	defer closeDB(db)
	for i := range 1000 {
		db.Create(&models.Setting{Key: fmt.Sprintf("k%05d", i), Value: "v"})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				db.Transaction(func(tx *gorm.DB) error {
					tx.Create(&models.Setting{Key: fmt.Sprintf("w%02d%08d", w, i), Value: "v"})
					time.Sleep(5 * time.Millisecond)
					return nil
				})
			}
		})
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var rows []models.Setting
			if err := db.Where("key > ?", "k00500").Order("key").Limit(50).Find(&rows).Error; err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	close(stop)
	wg.Wait()
}

// TestSQLiteTemporaryStoreInMemory: the writer and the readers sort and
// group in memory (temp_store 2), not in a temporary file made and removed
// for every query the indexes cannot order by itself.
func TestSQLiteTemporaryStoreInMemory(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "p.db"))
	var read, written int
	if err := db.Raw("PRAGMA temp_store").Scan(&read).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Transaction(func(tx *gorm.DB) error { return tx.Raw("PRAGMA temp_store").Scan(&written).Error }); err != nil {
		t.Fatal(err)
	}
	if read != 2 || written != 2 {
		t.Errorf("temp_store is %d on a reader and %d on the writer, want 2 (memory)", read, written)
	}
}
