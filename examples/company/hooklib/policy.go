package hooklib

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit"
)

// OwnerNamespace is the default namespace of the owner element in a domain's <metadata>.
const OwnerNamespace = "https://company.example/owner/1"

// Owner is the owner element (the namespace identifies it, whatever its name):
//
//	<owner xmlns="https://company.example/owner/1" team="dba" contact="dba-oncall@company.example"/>
type Owner struct {
	Team    string `xml:"team,attr"`
	Contact string `xml:"contact,attr"`
}

// OwnerPolicy configures RequireOwner.
type OwnerPolicy struct {
	// Namespace of the owner element (default OwnerNamespace).
	Namespace string
	// Exempt lists domain name patterns (path.Match) that may run without an owner, e.g. "ci-*".
	Exempt []string
}

// teamRE is what a team name looks like: the key of the company's team directory.
var teamRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// RequireOwner refuses to start a domain whose metadata names no owning team: on prepare, the first hook
// of every start (restore and incoming migration included), so a refused domain changes nothing on the
// host. The error tells the user the virsh command that fixes it.
func RequireOwner(p OwnerPolicy) Module {
	if p.Namespace == "" {
		p.Namespace = OwnerNamespace
	}
	return Func("require-owner", func(r *hookkit.Router) {
		r.OnDomainPrepare(func(dom *hookkit.Domain) error { return p.Check(dom) })
	})
}

// Check returns nil when the domain has a valid owner or is exempt, and otherwise an error that says
// what is missing and how to set it.
func (p OwnerPolicy) Check(dom *hookkit.Domain) error {
	for _, pat := range p.Exempt {
		if ok, _ := path.Match(pat, dom.Name()); ok {
			return nil
		}
	}
	ns := p.Namespace
	if ns == "" {
		ns = OwnerNamespace
	}
	fix := fmt.Sprintf(`set it with: virsh metadata %s --config --uri %s --key owner --set '<owner team="TEAM" contact="EMAIL"/>'`, dom.Name(), ns)
	var o Owner
	found, err := dom.Metadata(ns, &o)
	switch {
	case err != nil:
		return fmt.Errorf("policy: domain %q: unreadable owner metadata (%v); %s", dom.Name(), err, fix)
	case !found:
		return fmt.Errorf("policy: domain %q has no owner in its metadata; %s", dom.Name(), fix)
	case !teamRE.MatchString(o.Team):
		return fmt.Errorf("policy: domain %q: owner team %q is not a team name ([a-z][a-z0-9-]*); %s", dom.Name(), o.Team, fix)
	case o.Contact != "" && !strings.Contains(o.Contact, "@"):
		return fmt.Errorf("policy: domain %q: owner contact %q is not an email address; %s", dom.Name(), o.Contact, fix)
	}
	dom.Logger().Info("policy: owner", "team", o.Team)
	return nil
}
