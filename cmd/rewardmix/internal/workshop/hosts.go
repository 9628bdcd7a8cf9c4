package workshop

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Hosts is the set of Host header values a server of the page answers to:
// a guard against DNS rebinding, in which a page from another site points
// its own name at this machine and then calls the API as if it were its
// own. A browser sends, as Host, the name the page was loaded from, so a
// server that answers only to its own names answers no such page.
//
// A request is allowed when its Host, with port 80 when it gives none, is
// one of the server's names at the server's port (or at the port given
// with an --allow-host HOST:PORT). Every other request gets 421
// Misdirected Request: this server is not the one the request was meant
// for.
type Hosts struct {
	port    int
	allowed map[string]bool // canonical "host:port"
	added   []string        // canonical "host:port" of the allow list, in order
}

// NewHosts returns the hosts a server answers to when --addr named bind
// (its host part as given: a name, an IP, or empty) and the listener got
// the address bound (port 0 already resolved). It answers to
//   - bind, and bound's IP, unless bound is unspecified (0.0.0.0, ::);
//   - localhost, 127.0.0.1 and [::1] when bound is loopback or unspecified
//     (then this machine's own browser may use it);
//   - each of allow: a name or an IP, at bound's port unless it gives
//     HOST:PORT.
//
// So with --addr 0.0.0.0:8080 and no allow, only a browser on this
// machine, at http://localhost:8080/ or http://127.0.0.1:8080/, is
// served; other machines need the name or address they use allowed.
func NewHosts(bind string, bound netip.AddrPort, allow []string) (*Hosts, error) {
	h := &Hosts{port: int(bound.Port()), allowed: map[string]bool{}}
	ip := bound.Addr().Unmap()
	if !ip.IsUnspecified() {
		if bind != "" {
			if _, err := h.add(bind); err != nil {
				return nil, fmt.Errorf("--addr host %q: %v", bind, err)
			}
		}
		h.allowed[netip.AddrPortFrom(ip, bound.Port()).String()] = true
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
			if _, err := h.add(name); err != nil {
				panic("workshop: " + err.Error())
			}
		}
	}
	for _, a := range allow {
		if err := CheckAllowHost(a); err != nil {
			return nil, fmt.Errorf("--allow-host %q: %v", a, err)
		}
		k, err := h.add(a)
		if err != nil {
			return nil, fmt.Errorf("--allow-host %q: %v", a, err)
		}
		if !slices.Contains(h.added, k) {
			h.added = append(h.added, k)
		}
	}
	return h, nil
}

// CheckAllowHost checks a value of --allow-host: a host name or an IP
// address, optionally with :PORT (an IPv6 address with a port in
// brackets, [2001:db8::1]:8080), and nothing else: no scheme, path or
// wildcard.
func CheckAllowHost(s string) error {
	if strings.Contains(s, "/") {
		return fmt.Errorf("want a host name or IP address, optionally with :PORT (e.g. teacher.local or 192.168.1.20), not a URL")
	}
	host, _, err := canonicalHost(s, 1)
	if err != nil {
		return err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !validName(host) {
		return fmt.Errorf("%q is neither an IP address nor a host name (letters, digits, '-', '_' and '.')", host)
	}
	return nil
}

// add allows s (HOST or HOST:PORT), at the server's port unless it gives
// one, and returns it as canonical host:port.
func (h *Hosts) add(s string) (string, error) {
	host, port, err := canonicalHost(s, h.port)
	if err != nil {
		return "", err
	}
	k := joinHost(host, port)
	h.allowed[k] = true
	return k, nil
}

// Allows reports whether a request whose Host header is host is one this
// server answers; a Host without a port means port 80.
func (h *Hosts) Allows(host string) bool {
	name, port, err := canonicalHost(host, 80)
	return err == nil && h.allowed[joinHost(name, port)]
}

// Added returns the hosts allowed by NewHosts's allow list, each as
// canonical host:port (an IPv6 address in brackets), in the order given:
// what other machines may put in the page's URL.
func (h *Hosts) Added() []string { return slices.Clone(h.added) }

// checkHost answers 421 with a one-line JSON message to every request
// whose Host is not one of hosts.
func checkHost(hosts *Hosts, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !hosts.Allows(r.Host) {
			httpError(rw, http.StatusMisdirectedRequest, hosts.refusal(r.Host))
			return
		}
		next.ServeHTTP(rw, r)
	})
}

// refusal is the message for a request whose Host is not allowed. It
// names the fix, but not the allowed hosts (the page of a DNS rebinding
// attack reads it).
func (h *Hosts) refusal(host string) string {
	if host == "" {
		return "the request names no host (Host header); this server answers only requests addressed to one of its names"
	}
	fix := host
	if name, port, err := canonicalHost(host, 80); err == nil && port == h.port {
		fix = name
		if strings.Contains(name, ":") {
			fix = "[" + name + "]"
		}
	}
	return fmt.Sprintf("host %.100q is not one this server answers to (a guard against DNS rebinding); if it names this machine, restart rewardmix serve with --allow-host %.100s", host, fix)
}

// canonicalHost splits HOST, HOST:PORT, [IPv6] or [IPv6]:PORT into a
// lower-case host (an IP in its canonical form, a name without a final
// dot) and a port, defaultPort when none (or an empty one) is given.
func canonicalHost(s string, defaultPort int) (string, int, error) {
	if s == "" {
		return "", 0, fmt.Errorf("empty host")
	}
	host, portStr := s, ""
	bracketed := false
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, portStr = h, p
		bracketed = strings.HasPrefix(s, "[")
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host, bracketed = s[1:len(s)-1], true
	}
	port := defaultPort
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || strings.TrimLeft(portStr, "0123456789") != "" || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("port %q is not a number in [1, 65535]", portStr)
		}
		port = n
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", 0, fmt.Errorf("%q: an address with a zone is not supported", host)
		}
		if bracketed && !ip.Is6() {
			return "", 0, fmt.Errorf("%q: only an IPv6 address goes in brackets", s)
		}
		return ip.Unmap().String(), port, nil
	}
	if bracketed {
		return "", 0, fmt.Errorf("%q: only an IPv6 address goes in brackets", s)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" || strings.ContainsAny(host, ":[]") {
		return "", 0, fmt.Errorf("%q is not a host name or an IP address", s)
	}
	return host, port, nil
}

func joinHost(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// validName reports whether s is a host name: dot-separated labels of
// letters, digits, '-' and '_' (some local networks use it), each 1 to 63
// characters, at most 253 in all.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
