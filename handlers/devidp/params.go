package devidp

import "net/url"

// params reads request parameters and remembers which were repeated, because
// RFC 6749 section 3.1 does not allow a parameter to appear more than once.
type params struct {
	values   url.Values
	repeated []string
}

// get returns the first value of name, or "" if it is absent.
func (in *params) get(name string) string {
	values := in.values[name]
	if len(values) > 1 {
		in.repeated = append(in.repeated, name)
	}
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// firstRepeated returns the first parameter read so far that was repeated, or "".
func (in *params) firstRepeated() string {
	if len(in.repeated) == 0 {
		return ""
	}
	return in.repeated[0]
}
