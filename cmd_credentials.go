package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wftrigger/wftrigger/tencent"
)

// credentialsHint is the hint of a run without credentials: every source,
// in the order auto tries them.
const credentialsHint = "export TENCENTCLOUD_SECRET_ID=… TENCENTCLOUD_SECRET_KEY=… (a sub-account with ci:TriggerMediaWorkflow), " +
	"or write [default] secret_id/secret_key in ~/.tencentcloud/credentials (or $TENCENTCLOUD_CREDENTIALS_FILE), " +
	"or run in TKE with pod identity (TKE_REGION, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN), " +
	"or on a CVM instance with a CAM role; --credentials " + tencent.SourceList + " picks one"

// checkCredentialsFlag rejects an unknown --credentials value before any work.
func checkCredentialsFlag(v string) error {
	switch v {
	case tencent.SourceAuto, tencent.SourceEnv, tencent.SourceProfile, tencent.SourceOIDC, tencent.SourceCVMRole:
		return nil
	}
	return usageError("--credentials auto (or one of "+tencent.SourceList+")", "--credentials %q is not a credential source", v)
}

// openCredentials opens the --credentials source shared by every request of
// a command, remembers its secrets for the redaction of all output, and
// logs which source it is (never a secret). Failing to find credentials is
// a configuration error: exit 2, with a hint naming every source.
func openCredentials(ctx context.Context, source string, env environment, logger *slog.Logger) (tencent.CredentialSource, error) {
	src, err := tencent.OpenCredentials(ctx, tencent.SourceConfig{Source: source, Getenv: env.getenv, Secrets: env.secrets})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, &exitError{code: exitAborted, err: context.Canceled}
		}
		return nil, &exitError{code: exitUsage, err: err, hint: credentialsHint}
	}
	attrs := []any{"source", src.Describe()}
	if exp := src.Expires(); !exp.IsZero() {
		attrs = append(attrs, "expires", exp.UTC().Format("2006-01-02T15:04:05Z"))
	}
	logger.Info("credentials", attrs...)
	return src, nil
}
