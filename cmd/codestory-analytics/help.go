package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module's build information.
var version = ""

// Version is the program's version: the -X value, the module version of a
// `go install`, or the VCS revision of a local build.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		return "devel-" + rev[:min(12, len(rev))] + dirty
	}
	if v == "" {
		return "(devel)"
	}
	return v
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "codestory-analytics %s\n", Version())
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func isVersion(arg string) bool { return arg == "--version" || arg == "-version" || arg == "version" }

// groupHelp is the help of the commands that take a sub-command.
var groupHelp = map[string]string{
	"admin": `usage: codestory-analytics admin <sub-command> [flags]
  admin create --email E --role viewer|analyst|owner [--password-stdin]
  admin list
` + adminLifecycleHelp,
	"token": `usage: codestory-analytics token <sub-command> [flags]
  token create --email E --name N [--expires 90d|never]   prints a new admin API token once (default lifetime 90 days)
  token list [--email E]                                 with expiry and last use
  token revoke ID`,
	"ingest-key": `usage: codestory-analytics ingest-key <sub-command> [flags]
  ingest-key create --name N [--expires 90d|never]   prints a new ingest key once (default: never expires)
  ingest-key list                                    with expiry and last use
  ingest-key revoke ID                               the key's next request gets 401`,
	"audit": `usage: codestory-analytics audit verify [flags]`,
	"query": `usage: codestory-analytics query dashboard|costs|growth|engagement|top|economics|stories|cohorts|export [flags]
  --start YYYY-MM-DD --end YYYY-MM-DD [--limit N --sort-by KEY --order asc|desc --cursor C] [--period week|month]
  [--format csv|json --table daily|users|stories|cohorts]
Run 'codestory-analytics query dashboard -h' for every flag.`,
}

// synopsis adds the positional arguments to a command's usage line.
var synopsis = map[string]string{"ingest": "FILE|-", "token revoke": "ID", "ingest-key revoke": "ID"}

// cliOut is the --version flag every command has; it also carries stdout,
// where -h and --version print.
type cliOut struct {
	stdout io.Writer
	set    bool
}

func (v *cliOut) String() string     { return "false" }
func (v *cliOut) IsBoolFlag() bool   { return true }
func (v *cliOut) Set(s string) error { v.set = s == "true"; return nil }

// withHelp gives a flag set the --version flag and quiet parsing: parse
// prints usage itself, to stdout for -h and to stderr for a mistake.
func withHelp(fs *flag.FlagSet, stdout io.Writer) {
	fs.Var(&cliOut{stdout: stdout}, "version", "print the version and exit")
	fs.Usage = func() {}
}

func printUsage(fs *flag.FlagSet, w io.Writer) {
	line := "codestory-analytics " + fs.Name()
	if s := synopsis[fs.Name()]; s != "" {
		line += " " + s
	}
	fmt.Fprintf(w, "usage: %s [flags]\n\nflags:\n", line)
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// afterParse handles -h, --version and flag mistakes after fs.Parse.
func afterParse(fs *flag.FlagSet, err error) error {
	out, _ := fs.Lookup("version").Value.(*cliOut)
	if out == nil {
		return err
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(fs, out.stdout)
		return flag.ErrHelp
	case err != nil: // the flag package has printed the mistake
		printUsage(fs, fs.Output())
		return err
	case out.set:
		printVersion(out.stdout)
		return flag.ErrHelp
	}
	return nil
}

// helpFor answers -h and --version for a command before it runs; ok is
// false when args ask for neither at the command's level.
func helpFor(cmd string, args []string, stdout io.Writer) (ok bool) {
	if len(args) == 0 {
		return false
	}
	if isVersion(args[0]) && args[0] != "version" {
		printVersion(stdout)
		return true
	}
	if h, found := groupHelp[cmd]; found && isHelp(args[0]) {
		fmt.Fprintln(stdout, strings.TrimRight(h, "\n"))
		return true
	}
	return false
}
