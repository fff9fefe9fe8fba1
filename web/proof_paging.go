package web

// ListLinks are the paging links of a list on a proof page (drift, scans,
// deliveries, an asset's ports and history): empty when there is no such page.
type ListLinks struct {
	Next, First string
}
