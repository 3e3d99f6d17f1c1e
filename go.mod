module github.com/hookkit-dev/hookkit

go 1.26

require (
	github.com/antchfx/xmlquery v1.5.2
	github.com/antchfx/xpath v1.3.9
	github.com/spf13/pflag v1.1.0
	github.com/stretchr/testify v1.12.1
	libvirt.org/go/libvirtxml v1.12008.0
)

require (
	github.com/golang/groupcache v0.0.0-20210331224755-41bb18bfe9da // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.33.0 // indirect
	golang.org/x/text v0.21.0 // indirect
)
