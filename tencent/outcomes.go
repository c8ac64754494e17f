package tencent

import (
	"net/http"
	"strings"
)

// meaning is what one documented answer says a caller should do.
type meaning struct {
	class     Class
	throttled bool // the service asking for a lower rate ("not now")
	resign    bool // the signature's time was refused: re-signed and sent once more
}

// codes is the one table of what every documented answer code means
// (reference §3, COS and CI). It is read, never written.
var codes = map[string]meaning{
	// Rejected credentials or configuration: no object can succeed.
	"SignatureDoesNotMatch": {class: Fatal},
	"InvalidAccessKeyId":    {class: Fatal},
	"SecretidNotExist":      {class: Fatal}, // CI, 401
	"InvalidAuthorization":  {class: Fatal}, // CI, 401
	"MissingAuthorization":  {class: Fatal}, // CI, 401
	"ExpiredToken":          {class: Fatal},
	"CIRoleNotExist":        {class: Fatal},
	"NoSuchBucket":          {class: Fatal},
	// Wrong host or region.
	"InvalidHost":       {class: Fatal},
	"PermanentRedirect": {class: Fatal},
	"TemporaryRedirect": {class: Fatal},
	// The signature's time: a fresh signature may fix it; if it does not,
	// the machine's clock is wrong and the run cannot go on.
	"SignatureExpired":     {class: Retryable, resign: true}, // CI, 401
	"RequestTimeTooSkewed": {class: Retryable, resign: true}, // COS, 403
	// Throttling.
	"SlowDown":             {class: Retryable, throttled: true},
	"RequestLimitExceeded": {class: Retryable, throttled: true},
	"ServiceUnavailable":   {class: Retryable, throttled: true},
	// Transient.
	"InternalError":          {class: Retryable},
	"ResourceDownloadFailed": {class: Retryable},
	// Per object (AccessDenied on every object ends the run by the runner's
	// "first 20 the same" rule; ResourceNotFound is fatal when it names the
	// call's workflow, see unknownWorkflow).
	"AccessDenied":     {class: Permanent},
	"ResourceNotFound": {class: Permanent},
}

// meaning is what an error answer means: a clock refused after a fresh
// signature, an unknown workflow, COS's "Request has expired", else its
// code's row of the table, else what its HTTP status says.
func (e *APIError) meaning() meaning {
	status, msg := e.HTTPStatus, e.Message
	switch {
	case e.Clock:
		return meaning{class: Fatal}
	case unknownWorkflow(e.Code, msg, e.WorkflowID):
		return meaning{class: Fatal}
	case status == http.StatusForbidden && strings.Contains(strings.ToLower(msg), "request has expired"):
		return codes["RequestTimeTooSkewed"] // COS's other answer for a signature out of its time (reference §3)
	}
	if m, ok := codes[e.Code]; ok {
		return m
	}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return meaning{class: Retryable, throttled: true}
	case status >= 500:
		return meaning{class: Retryable}
	case status >= 300 && status < 400:
		return meaning{class: Fatal} // a redirect: wrong host or region
	}
	return meaning{class: Permanent}
}

// unknownWorkflow reports whether an error answer says that the workflow
// itself does not exist or is not usable: its code names a workflow, or it
// is an invalid-argument or not-found code whose message names the
// workflow. ResourceNotFound is documented for a missing input object, so
// it counts only when its message names the call's workflow id: a missing
// object stays a failure of that object, not of the run. CI's real answer
// for an unknown workflow is not documented; the runner's "first 20 objects
// failed the same way" rule is the backstop.
func unknownWorkflow(code, msg, workflowID string) bool {
	if containsFold(code, "workflow") {
		return true
	}
	switch code {
	case "InvalidArgument", "InvalidParameter", "NotFound", "InvalidWorkflowId":
		return containsFold(msg, "workflow")
	case "ResourceNotFound":
		return workflowID != "" && strings.Contains(msg, workflowID)
	}
	return false
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}
