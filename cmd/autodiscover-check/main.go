// Command autodiscover-check predicts what Outlook shows when it looks up Autodiscover for an e-mail
// address: silent success, a certificate warning, a redirect prompt, or failure. See README.md.
package main

import (
	"os"

	"github.com/autodiscover-dns/autodiscover/diagnose"
)

func main() { os.Exit(diagnose.Main(os.Args[1:])) }
