module github.com/wftrigger/wftrigger

go 1.26.0

require (
	github.com/prometheus/client_model v0.6.3 // test only: the parsed form of metrics/ files
	github.com/prometheus/common v0.73.1 // test only: metrics/ files parse with the Prometheus text parser (expfmt)
	github.com/rogpeppe/go-internal v1.16.0 // test only: testscript CLI transcripts
	github.com/schollz/progressbar/v3 v3.19.1 // the progress bar on a terminal
	github.com/tencentyun/cos-go-sdk-v5 v0.7.70 // test only: the reference the signer is proven byte-identical to
	golang.org/x/sync v0.25.0 // errgroup (fan-out), singleflight (one credentials refresh at a time)
	golang.org/x/term v0.47.0 // is stderr a terminal (progressbar needs it too)
	golang.org/x/time v0.16.0 // rate.Limiter
	k8s.io/api v0.37.2 // test only: the deploy/ recipes are checked against the Kubernetes types
	k8s.io/apimachinery v0.37.2 // test only: with k8s.io/api
	sigs.k8s.io/yaml v1.6.0 // test only: strict decoding of the deploy/ YAML (recipes, alert rules)
)

require (
	github.com/clbanning/mxj v1.8.4 // indirect
	github.com/fxamacker/cbor/v2 v2.9.1 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/google/go-querystring v1.0.0 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/mitchellh/mapstructure v1.4.3 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.3-0.20250322232337-35a7c28c31ee // indirect
	github.com/mozillazg/go-httpheader v0.2.1 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/pandatix/go-abnf v0.5.3 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.yaml.in/yaml/v2 v2.4.4 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/inf.v0 v0.9.1 // indirect
	k8s.io/klog/v2 v2.140.0 // indirect
	k8s.io/kube-openapi v0.0.0-20260721132016-d427ff9ee9ad // indirect
	k8s.io/utils v0.0.0-20260626114624-be93311217bd // indirect
	sigs.k8s.io/json v0.0.0-20250730193827-2d320260d730 // indirect
	sigs.k8s.io/randfill v1.0.0 // indirect
	sigs.k8s.io/structured-merge-diff/v6 v6.4.2 // indirect
)
