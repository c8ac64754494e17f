module github.com/wftrigger/wftrigger

go 1.26.0

require (
	github.com/prometheus/client_model v0.6.3 // test only: the parsed form of metrics/ files
	github.com/prometheus/common v0.73.1 // test only: metrics/ files parse with the Prometheus text parser (expfmt)
	github.com/rogpeppe/go-internal v1.16.0 // test only: testscript CLI transcripts
	github.com/schollz/progressbar/v3 v3.19.1 // the progress bar on a terminal
	github.com/tencentyun/cos-go-sdk-v5 v0.7.70 // test only: the reference the signer is proven byte-identical to
	golang.org/x/sync v0.25.0 // errgroup
	golang.org/x/term v0.44.0 // is stderr a terminal (progressbar needs it too)
	golang.org/x/time v0.16.0 // rate.Limiter
	gopkg.in/yaml.v3 v3.0.1 // test only: checks the deploy/ recipes against the real flags
)

require (
	github.com/clbanning/mxj v1.8.4 // indirect
	github.com/google/go-querystring v1.0.0 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/mitchellh/mapstructure v1.4.3 // indirect
	github.com/mozillazg/go-httpheader v0.2.1 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/pandatix/go-abnf v0.5.3 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
