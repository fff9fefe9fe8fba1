package web

import (
	"reflect"
	"testing"
)

func TestTechnicalRuns(t *testing.T) {
	cases := []struct {
		in   string
		want []textRun
	}{
		{"PostgreSQL 的 pg_hba.conf 对远程主机没有 'trust' 条目", []textRun{
			{"PostgreSQL", true}, {" 的 ", false}, {"pg_hba.conf", true}, {" 对远程主机没有 ", false}, {"'trust'", true}, {" 条目", false}}},
		{"postgresql 已启用身份验证", []textRun{{"postgresql", true}, {" 已启用身份验证", false}}},
		{"已确认出站连接的业务需要", []textRun{{"已确认出站连接的业务需要", false}}},
		{"模式 6 和 7", []textRun{{"模式 6 和 7", false}}},
		{"", nil},
	}
	for _, tc := range cases {
		if got := technicalRuns(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("technicalRuns(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
