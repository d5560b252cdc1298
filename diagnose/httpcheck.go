package diagnose

import (
	"context"
	"net"
	"net/http"
	"net/url"
)

// HTTPResult is what the plain-HTTP server of step 3 answered.
type HTTPResult struct {
	Address    string   `json:"address"`
	Failures   []string `json:"failures,omitempty"`
	Connected  bool     `json:"connected"`
	StatusCode int      `json:"status_code,omitempty"`
	// Location is the redirect target; Outlook asks the user before it follows one (step 3).
	Location string `json:"location,omitempty"`
}

// redirectHost is the host of an https redirect, the only kind Outlook follows from step 3.
func (h *HTTPResult) redirectHost() string {
	if h == nil || h.Location == "" {
		return ""
	}
	u, err := url.Parse(h.Location)
	if err != nil || u.Scheme != "https" {
		return ""
	}
	return u.Hostname()
}

// checkHTTP sends the GET that Outlook sends in step 3 to each address in turn and reports the first answer.
// It never follows the redirect: the point is what the user would be asked.
func checkHTTP(ctx context.Context, cfg Config, host string, addrs []string) *HTTPResult {
	res := &HTTPResult{}
	for _, addr := range addrs {
		conn, shown, err := dial(ctx, cfg, addr, 80)
		res.Address = shown
		if err != nil {
			res.Failures = append(res.Failures, shown+": "+err.Error())
			continue
		}
		used := false
		client := &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				// No proxy from the environment: the question is what this address answers.
				Proxy: nil,
				DialContext: func(context.Context, string, string) (net.Conn, error) {
					if used {
						return nil, net.ErrClosed
					}
					used = true
					return conn, nil
				},
				DisableKeepAlives: true,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostname(host)+autodiscoverPath, nil)
		if err != nil {
			conn.Close()
			res.Failures = append(res.Failures, shown+": "+err.Error())
			continue
		}
		resp, err := client.Do(req)
		if err != nil {
			conn.Close()
			res.Failures = append(res.Failures, shown+": "+err.Error())
			continue
		}
		resp.Body.Close()
		res.Connected = true
		res.StatusCode = resp.StatusCode
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			res.Location = resp.Header.Get("Location")
		}
		return res
	}
	return res
}
