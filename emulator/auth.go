package emulator

import "net/http"

// AuthStyle is how a Server answers a CI request whose authentication
// fails. COS requests always get COS's answers.
type AuthStyle int

const (
	// AuthCOS answers as COS does: 403 InvalidAccessKeyId,
	// SignatureDoesNotMatch, or AccessDenied ("Request has expired", a
	// missing or malformed Authorization header).
	AuthCOS AuthStyle = iota
	// AuthCI answers as CI documents it (reference §3): 401
	// SecretidNotExist for an unknown SecretId, MissingAuthorization,
	// InvalidAuthorization for a malformed header or a wrong signature,
	// SignatureExpired outside the signature's time window.
	AuthCI
)

// ParseAuthStyle reads "cos" or "ci".
func ParseAuthStyle(s string) (AuthStyle, bool) {
	switch s {
	case "cos":
		return AuthCOS, true
	case "ci":
		return AuthCI, true
	}
	return 0, false
}

// authError is the answer to a request of svc whose signature check failed
// with e, in the Server's style.
func (s *Server) authError(svc service, e *apiError) *apiError {
	if s.cfg.Auth != AuthCI || svc != serviceCI {
		return e
	}
	switch {
	case e.code == "InvalidAccessKeyId":
		return &apiError{http.StatusUnauthorized, "SecretidNotExist", "the SecretId does not exist"}
	case e.code == "SignatureDoesNotMatch":
		return &apiError{http.StatusUnauthorized, "InvalidAuthorization", "the signature is not valid"}
	case e.code == "AccessDenied" && e.message == "missing or repeated Authorization header":
		return &apiError{http.StatusUnauthorized, "MissingAuthorization", "the request carries no Authorization header"}
	case e.code == "AccessDenied" && e.message == "malformed Authorization header":
		return &apiError{http.StatusUnauthorized, "InvalidAuthorization", "the Authorization header is malformed"}
	case e.code == "AccessDenied" && e.message == "Request has expired":
		return &apiError{http.StatusUnauthorized, "SignatureExpired", "the signature's time window does not include the server's time"}
	}
	return e
}
