package handlers

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestInventoryAndAdminPagesInChinese: each page converted here reads its
// heading from the Chinese catalogs, and no message id reaches the page.
func TestInventoryAndAdminPagesInChinese(t *testing.T) {
	a := newApp(t)
	for _, tc := range []struct {
		who, path string
		want      []string
	}{
		{"alice", "/zones", []string{"<h1>区域</h1>", "网络区域及其包含的资产"}},
		{"alice", "/assets", []string{"<h1>资产</h1>", "所属区域由地址决定"}},
		{"alice", "/reports", []string{"<h1>报表</h1>", "我的邮件"}},
		{"adam", "/zones/new", []string{"<h1>新建区域</h1>", "默认凭据检测"}},
		{"adam", "/assets/new", []string{"<h1>新建资产</h1>", "公网（NAT）地址"}},
		{"adam", "/assets/import", []string{"从 CSV 导入资产", "只要有一行有误"}},
		{"adam", "/admin/users", []string{"<h1>用户</h1>", "最近登录"}},
		{"adam", "/admin/settings", []string{"<h1>设置</h1>", "放通的最长有效期（天）", "保存设置"}},
		{"adam", "/admin/applications", []string{"<h1>应用系统</h1>", "另存为新版本"}},
		{"adam", "/admin/agents", []string{"<h1>扫描代理</h1>", "注册扫描代理"}},
		{"adam", "/admin/credentials", []string{"<h1>默认凭据清单</h1>", "替换清单"}},
		{"adam", "/admin/jobs", []string{"<h1>后台任务</h1>", "失败的任务"}},
		{"aude", "/audit", []string{"<h1>审计日志</h1>", "校验哈希链", "不安全服务台账（PCI DSS 1.2.6, 2.2.5）", "审核中"}},
	} {
		t.Run(tc.who+tc.path, func(t *testing.T) {
			status, body := a.getIn(a.as(tc.who), tc.path, "zh-CN,zh;q=0.9")
			if status != http.StatusOK {
				t.Fatalf("%s answered %d", tc.path, status)
			}
			wantAll(t, tc.path, body, append(tc.want, `<html lang="zh-CN">`)...)
			for _, family := range []string{"zones.", "assets.", "asset_form.", "asset_import.", "users.", "settings.", "applications.", "agents.", "credentials.", "jobs.", "audit.", "reports.", "job_state.", "agent_status."} {
				if i := strings.Index(body, ">"+family); i >= 0 {
					t.Errorf("a message id reaches the page: %.80s", body[i:])
				}
			}
		})
	}
}

// TestComplianceReportLanguageByFormat: an auditor reading Chinese gets a
// Chinese XLSX; the CSV of the same report keeps its English headers.
func TestComplianceReportLanguageByFormat(t *testing.T) {
	a := newApp(t)
	aude := a.as("aude")
	status, body := a.getIn(aude, "/audit/reports?kind=rules&format=xlsx", "zh-CN")
	if status != http.StatusOK {
		t.Fatalf("xlsx answered %d: %.300s", status, body)
	}
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("rules")
	if err != nil || len(rows) == 0 || rows[0][0] != "申请" {
		t.Fatalf("the Chinese rule register's header: %v, %v", rows, err)
	}
	for _, accept := range []string{"zh-CN", "en"} {
		status, body = a.getIn(aude, "/audit/reports?kind=rules&format=csv", accept)
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(body), []byte("\ufeff")))).ReadAll()
		if status != http.StatusOK || err != nil || len(recs) == 0 || recs[0][0] != "Request" {
			t.Errorf("CSV for %s: %d, %v, header %v", accept, status, err, recs)
		}
	}
}
