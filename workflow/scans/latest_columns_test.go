package scans

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// TestLatestColumnsAreComplete: the latest host row's reader reads every
// column of the host row and every column of its run but the report.
func TestLatestColumnsAreComplete(t *testing.T) {
	var host, run []string
	for _, c := range latestColumns {
		table, col, _ := strings.Cut(c, ".")
		if table == "p" {
			host = append(host, col)
		} else {
			run = append(run, col)
		}
	}
	modelstest.CheckColumns(t, &models.ScanResult{}, host)
	modelstest.CheckColumns(t, &models.ScanRun{}, append(run, "report"))
}
