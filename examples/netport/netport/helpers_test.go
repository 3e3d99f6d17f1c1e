package netport

import (
	"fmt"
	"strings"
)

// fmtSettings renders settings compactly for table tests: {Inbound:&{...} Outbound:<nil> VLANs:[{...}]}.
func fmtSettings(s Settings) string {
	rate := func(r *Rate) string {
		if r == nil {
			return "<nil>"
		}
		return fmt.Sprintf("&%+v", *r)
	}
	vlans := make([]string, len(s.VLANs))
	for i, v := range s.VLANs {
		vlans[i] = fmt.Sprintf("%+v", v)
	}
	return fmt.Sprintf("{Inbound:%s Outbound:%s VLANs:[%s]}", rate(s.Inbound), rate(s.Outbound), strings.Join(vlans, " "))
}
