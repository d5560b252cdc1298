package diagnose

// Severity ranks a finding.
type Severity string

const (
	// SeverityError predicts a certificate warning or a failed lookup, now or once an earlier step is fixed.
	SeverityError Severity = "error"
	// SeverityWarning is wrong or fragile, but does not by itself predict a dialog for Outlook.
	SeverityWarning Severity = "warning"
	// SeverityInfo explains the result.
	SeverityInfo Severity = "info"
)

// Stable finding ids for scripts reading -json.
const (
	IDApexResolves            = "apex-resolves"
	IDAutodiscoverRecord      = "autodiscover-record"
	IDAutodiscoverCNAME       = "autodiscover-cname"
	IDWildcard                = "wildcard-record"
	IDConnectionFailed        = "connection-failed"
	IDHTTPRedirect            = "http-redirect"
	IDSRVMissing              = "srv-missing"
	IDSRVTargetNone           = "srv-target-none"
	IDSRVMultiple             = "srv-multiple"
	IDSRVPort                 = "srv-port"
	IDSRVTargetCNAME          = "srv-target-cname"
	IDSRVTargetNoAddress      = "srv-target-no-address"
	IDSRVTargetNotOnCert      = "srv-target-not-on-certificate"
	IDCertificateNameMismatch = "certificate-name-mismatch"
	IDCertificateUntrusted    = "certificate-unknown-authority"
	IDCertificateExpired      = "certificate-expired"
	IDCertificateInvalid      = "certificate-invalid"
	IDRedirectPrompt          = "redirect-prompt"
	IDEmptyNonTerminal        = "ent-nxdomain"
	IDNegativeNoSOA           = "negative-no-soa"
	IDNotAuthoritative        = "not-authoritative"
	IDNoAnswer                = "dns-no-answer"
)

// Finding is one thing wrong or worth knowing, with the rule or client behaviour behind it.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Step     int      `json:"step,omitempty"`
	Message  string   `json:"message"`
	Reason   string   `json:"reason"`
}
