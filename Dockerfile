# syntax=docker/dockerfile:1
# lssd in a container: a static binary on a distroless base, run as a non-root user.
#
#   docker build -t lssd .
#   docker run -d -p 55551:55551 -v lssd-data:/var/lib/lssd lssd \
#     --interface 0.0.0.0 --grpc-tls-certificate /var/lib/lssd/tls.crt --grpc-tls-key /var/lib/lssd/tls.key
#
# The data volume (/var/lib/lssd) holds the server key and the bolt database: keep it.

# Build: a static binary (no cgo), without local paths, with the version stamped from
# the module's VCS information when the build context has .git.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/lssd ./cmd/lssd \
    && /out/lssd --version \
    && mkdir -p /out/data

# Run: distroless static (CA certificates, /etc/passwd with nonroot, no shell).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lssd /usr/local/bin/lssd
COPY --from=build --chown=65532:65532 --chmod=0700 /out/data /var/lib/lssd
USER 65532:65532
VOLUME ["/var/lib/lssd"]
# gRPC; metrics when started with --metrics-addr 0.0.0.0:9100.
EXPOSE 55551 9100
ENTRYPOINT ["/usr/local/bin/lssd", "--datadir", "/var/lib/lssd"]
CMD ["--interface", "0.0.0.0"]
