# The README's two commands, and the container.
VERSION ?= 0.1.0
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build run test docker
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o autodiscover-dns ./cmd/autodiscover-dns

run:
	go run ./cmd/autodiscover-dns -conf corefile/Corefile -dns.port 1053

test:
	sh test/run.sh

docker:
	docker build -t autodiscover-dns:$(VERSION) .
