package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coredns/caddy"
)

var validate = flag.Bool("validate", false, "check the Corefile as start-up would, print every error with its line, and exit: 0 when it is valid")

// validateCorefile runs every directive's setup on the Corefile, as start-up does, without
// serving it (CoreDNS has no such check: coredns/coredns#5152). Setup stops at the first
// error, so when the whole file fails each server block is checked on its own as well, to
// report one error per block. Checks that need the running chain (a *cache* next to the
// horizons, the contents of a domains file) still happen at start-up.
func validateCorefile(out, errOut io.Writer) int {
	input, err := caddy.LoadCaddyfile("dns")
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	whole := check(input, input.Body())
	if whole == nil {
		fmt.Fprintf(out, "%s: valid\n", input.Path())
		return 0
	}
	errs := []string{whole.Error()}
	for _, block := range serverBlocks(string(input.Body())) {
		if err := check(input, []byte(block)); err != nil && !slices.Contains(errs, err.Error()) {
			errs = append(errs, err.Error())
		}
	}
	for _, e := range errs {
		fmt.Fprintln(errOut, e)
	}
	return 1
}

func check(input caddy.Input, body []byte) error {
	return caddy.ValidateAndExecuteDirectives(caddy.CaddyfileInput{
		Contents:       body,
		Filepath:       input.Path(),
		ServerTypeName: input.ServerType(),
	}, nil, true)
}

// serverBlocks returns each top-level server block of a Corefile as a Corefile of its own,
// with the lines before it blanked so that errors keep their line numbers. A Corefile with
// snippets or imports is not split: a block may depend on another part of the file.
func serverBlocks(corefile string) []string {
	lines := strings.Split(corefile, "\n")
	var blocks []string
	depth, start := 0, -1
	for i, line := range lines {
		code, _, _ := strings.Cut(line, "#")
		fields := strings.Fields(code)
		if len(fields) > 0 && (fields[0] == "import" || strings.HasPrefix(fields[0], "(")) {
			return nil
		}
		if depth == 0 && start < 0 && len(fields) > 0 {
			start = i
		}
		depth += strings.Count(code, "{") - strings.Count(code, "}")
		if depth == 0 && start >= 0 && strings.Contains(code, "}") {
			blocks = append(blocks, strings.Repeat("\n", start)+strings.Join(lines[start:i+1], "\n")+"\n")
			start = -1
		}
	}
	return blocks
}
