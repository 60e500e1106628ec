// Command pulumi-language-nodejs starts the Node.js language host of sdk/v3 v3.68.0 with the project's
// runtime options.
//
// Up to v3.68.0 the CLI passed Pulumi.yaml's `runtime.options` (typescript, tsconfig, nodeargs) to the
// host as command-line flags. Newer CLIs pass them only inside the RunRequest (its `info` field), which
// the v3.68.0 host does not know: it would run every program with its flag defaults, so `typescript:
// false` would still load ts-node (leaving a ts-node-* cache in $TMPDIR) and `nodeargs`/`tsconfig` would
// be ignored. This launcher reads the options from the project the CLI starts the host in (its working
// directory) and hands them to the host as the flags it understands, then becomes the host (exec).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// hostPath is where `npm run pulumi:cli` puts the real host, relative to this launcher's directory.
const hostPath = "../libexec/pulumi-language-nodejs"

func main() {
	self, err := os.Executable()
	if err != nil {
		fail("cannot find its own path: %v", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	host := filepath.Join(filepath.Dir(self), hostPath)
	args := append([]string{host}, append(projectFlags(), os.Args[1:]...)...)
	if err := syscall.Exec(host, args, os.Environ()); err != nil {
		fail("cannot start %s: %v", host, err)
	}
}

// projectFlags are the host's flags for the runtime options of the project in the working directory.
// Without a readable project they are empty, and the host keeps its defaults (as it would without us).
func projectFlags() []string {
	cwd, err := os.Getwd()
	if err != nil {
		return nil
	}
	path, err := workspace.DetectProjectPathFrom(cwd)
	if err != nil || path == "" {
		return nil
	}
	project, err := workspace.LoadProject(path)
	if err != nil {
		return nil
	}
	options := project.Runtime.Options()
	var flags []string
	if typescript, ok := options["typescript"].(bool); ok {
		flags = append(flags, fmt.Sprintf("-typescript=%t", typescript))
	}
	for _, name := range []string{"tsconfig", "nodeargs"} {
		if value, ok := options[name].(string); ok {
			flags = append(flags, fmt.Sprintf("-%s=%s", name, value))
		}
	}
	return flags
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs launcher: "+format+"\n", args...)
	os.Exit(1)
}
