// Package lab holds the scanner's lab: tests built with the "lab" tag that create
// network namespaces joined by veth pairs on a bridge (addresses in 10.213.0.0/24
// exist inside those namespaces only; no packet leaves the machine), start real
// daemons from Debian packages in them, scan them with the scanner's command line
// (labscan) and compare the report with the lab's own ground truth. The benchmark
// runs the scanner and nmap side by side on the same lab.
//
//	sudo scanner/lab/install.sh
//	go test -tags lab -count=1 -v ./scanner/lab/ -run TestLab
//	LAB_BENCH=1 go test -tags lab -count=1 -v -timeout 60m ./scanner/lab/ -run TestBenchScan
//
// Both need root (namespaces, iptables); they skip with the reason otherwise.
package lab
