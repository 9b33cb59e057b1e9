# scimbridge: one static binary on a small base image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/scimbridge ./cmd/scimbridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/scimbridge /usr/local/bin/scimbridge
USER nonroot
VOLUME ["/var/lib/scimbridge"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/scimbridge"]
CMD ["serve", "--config", "/etc/scimbridge/config.yaml"]
