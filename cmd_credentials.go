package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wftrigger/wftrigger/report"
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
func openCredentials(ctx context.Context, source string, env environment, logger *slog.Logger) (*tencent.Refresher, error) {
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

// userAgent is the User-Agent of every request.
func userAgent() string { return "wftrigger/" + version() }

// reportClient is the client of a command that works on the report of an
// earlier run (status, cancel): credentials from --credentials, and the CI
// endpoint that the flags give, else the one the report recorded, else the
// default host of the report's bucket and region.
func reportClient(ctx context.Context, meta report.Meta, region, endpoint, credentials string, env environment, logger *slog.Logger) (*tencent.Client, tencent.CredentialSource, error) {
	creds, err := openCredentials(ctx, credentials, env, logger)
	if err != nil {
		return nil, nil, err
	}
	region = or(region, meta.Region)
	endpoint = or(endpoint, meta.CIEndpoint)
	if endpoint == "" && region == "" {
		return nil, nil, usageError("--region ap-guangzhou", "the report names no region: give --region or --ci-endpoint")
	}
	client, err := tencent.NewClient(tencent.Config{CIEndpoint: or(endpoint, tencent.CIEndpoint(meta.Bucket, region)), Source: creds, UserAgent: userAgent()})
	if err != nil {
		return nil, nil, usageError("--ci-endpoint https://media-1250000000.ci.ap-guangzhou.myqcloud.com", "%v", err)
	}
	return client, creds, nil
}
