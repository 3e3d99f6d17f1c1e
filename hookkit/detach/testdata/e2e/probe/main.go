// Command probe is a minimal qemu hook for the real-libvirt check in ../run.sh:
// at "started" it runs virsh on the same domain in the way /tmp/hk-e2e/mode
// names: detach (hookkit/detach), naive (a background child that keeps the
// hook's stdout, like `sleep 20 &`) or inline (virsh called from the hook,
// killed after 15 s).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/detach"
)

const work = "/tmp/hk-e2e"

func main() {
	detach.MaybeRunChild()
	_, _ = io.Copy(io.Discard, os.Stdin)
	if len(os.Args) < 3 || os.Args[2] != "started" {
		return
	}
	virsh := []string{"-c", "qemu:///system", "domstate", os.Args[1], "--reason"}
	mode, _ := os.ReadFile(work + "/mode")
	switch strings.TrimSpace(string(mode)) {
	case "detach":
		if _, err := detach.Start(exec.Command("virsh", virsh...), detach.Options{LogFile: work + "/detach.log"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "naive":
		c := exec.Command("sleep", "20")
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		_ = c.Start()
	case "inline":
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "virsh", virsh...).CombinedOutput()
		_ = os.WriteFile(work+"/inline.log", fmt.Appendf(nil, "inline virsh: %q err=%v\n", out, err), 0o600)
	}
}
