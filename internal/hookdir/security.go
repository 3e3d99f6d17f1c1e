package hookdir

import (
	"os"
	"path/filepath"
	"strings"
)

// checkMAC reports what the host's mandatory access control does to hooks (users.md pain 6): with SELinux
// enforcing and the boolean virt_hooks_unconfined off, hooks run confined in the daemon's domain; with
// AppArmor enforcing a libvirtd profile, hooks inherit it. Both make a hook fail in ways its author does
// not see in a terminal.
func (c *checker) checkMAC() {
	root := c.opts.SysRoot
	if root == "" {
		return
	}
	read := func(rel string) (string, bool) {
		raw, err := os.ReadFile(filepath.Join(root, rel))
		return strings.TrimSpace(string(raw)), err == nil
	}
	if enforce, ok := read("fs/selinux/enforce"); ok {
		switch boolean, known := read("fs/selinux/booleans/virt_hooks_unconfined"); {
		case enforce != "1":
			c.add(OK, "selinux", "permissive: hooks are not confined (denials are only logged)")
		case known && strings.HasPrefix(boolean, "0"):
			c.add(Warn, "selinux", "enforcing with virt_hooks_unconfined off: hooks run confined and may be denied files, "+
				"devices or network access (see ausearch -m avc); if a hook needs them: setsebool -P virt_hooks_unconfined on")
		case known:
			c.add(OK, "selinux", "enforcing, virt_hooks_unconfined on: hooks run unconfined")
		default:
			c.add(OK, "selinux", "enforcing; this policy has no virt_hooks_unconfined boolean")
		}
	}
	if enabled, ok := read("module/apparmor/parameters/enabled"); ok && enabled == "Y" {
		profiles, _ := read("kernel/security/apparmor/profiles")
		for _, line := range strings.Split(profiles, "\n") {
			if strings.Contains(line, "libvirtd") && strings.HasSuffix(line, "(enforce)") {
				c.add(Warn, "apparmor", "libvirtd runs under the AppArmor profile %q in enforce mode and hooks inherit it: "+
					"a hook may be denied what it needs (look for apparmor=\"DENIED\" in the kernel log); extend the profile's local override if so",
					strings.TrimSuffix(strings.TrimSpace(line), " (enforce)"))
				return
			}
		}
	}
}
