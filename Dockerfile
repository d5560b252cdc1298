# Build: the same go build the Makefile runs, static, in a Go image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /autodiscover-dns ./cmd/autodiscover-dns \
 && /autodiscover-dns -version \
 && /autodiscover-dns -validate -conf corefile/Corefile

# Run: no shell, no libc; a non-root user that may bind port 53 through the file capability.
FROM debian:bookworm-slim AS caps
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin && rm -rf /var/lib/apt/lists/*
COPY --from=build /autodiscover-dns /autodiscover-dns
RUN setcap cap_net_bind_service=+ep /autodiscover-dns

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=caps /autodiscover-dns /autodiscover-dns
# The shipped example is the default configuration; mount your own over /etc/autodiscover.
WORKDIR /etc/autodiscover
COPY corefile/ corefile/
USER nonroot:nonroot
EXPOSE 53/udp 53/tcp 9153/tcp 8181/tcp
ENTRYPOINT ["/autodiscover-dns"]
CMD ["-conf", "corefile/Corefile", "-dns.port", "53"]
