// Command gomodproxy writes one version of a Go module into a folder laid out as a Go
// module proxy (GOPROXY=file://DIR): DIR/<module>/@v/{list,vX.Y.Z.info,vX.Y.Z.mod,vX.Y.Z.zip}.
//
// The zip is made by golang.org/x/mod/zip, the code the go command itself uses to check
// module zips, so that `go get` accepts it. scripts/contracts package runs it.
//
//	gomodproxy -dir contracts/go -version v1.1.0 -time 2026-12-05T00:00:00Z -out DIR
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "the module's folder (holding go.mod)")
	version := flag.String("version", "", "the module version, such as v1.1.0")
	stamp := flag.String("time", "", "the version's time (RFC 3339), written to the .info file")
	out := flag.String("out", "", "the proxy folder to write into")
	flag.Parse()
	if err := write(*dir, *version, *stamp, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gomodproxy:", err)
		os.Exit(1)
	}
}

func write(dir, version, stamp, out string) error {
	if dir == "" || version == "" || stamp == "" || out == "" {
		return fmt.Errorf("-dir, -version, -time and -out are all required")
	}
	when, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return fmt.Errorf("-time: %w", err)
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(goMod)
	if path == "" {
		return fmt.Errorf("%s/go.mod names no module", dir)
	}
	mod := module.Version{Path: path, Version: version}
	if err := module.Check(mod.Path, mod.Version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	versions := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(versions, 0o755); err != nil {
		return err
	}
	var archive bytes.Buffer
	if err := modzip.CreateFromDir(&archive, mod, dir); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, when.UTC()})
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": append(info, '\n'),
		version + ".mod":  goMod,
		version + ".zip":  archive.Bytes(),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(versions, name), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
