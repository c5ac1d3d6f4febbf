# syntax=docker/dockerfile:1
# trailwatch in a container: a static binary on distroless, running as a non-root user, its data in the
# /data volume. See README, "Deploying".
#
#   docker build -t trailwatch .
#   docker run -d --name trailwatch -p 4590:4590 -v trailwatch-data:/data --env-file trailwatch.env trailwatch
#
# The build records the git revision in the binary (trailwatch version) when the context holds the
# repository's .git directory (a clone: a git worktree's .git is a file, and records nothing). Should git
# fail in the builder, --build-arg BUILDVCS=false builds without the revision.

FROM golang:1.26 AS build
ARG BUILDVCS=auto
WORKDIR /src
# Dependencies first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary (the SQLite driver is pure Go) that needs no libc in the image;
# -trimpath: no build-machine paths in it.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=${BUILDVCS} -ldflags="-s -w" -o /out/trailwatch ./cmd/trailwatch \
 && /out/trailwatch version \
 && mkdir -p /out/data

# distroless/static: CA certificates (for AWS, SMTP and HTTPS subscriptions), tzdata and /etc/passwd with
# the nonroot user (65532), nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trailwatch /trailwatch
# The data directory belongs to the nonroot user (a new named volume takes this ownership; a bind-mounted
# host directory must be owned by 65532); trailwatch keeps it mode 0700.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
# The AWS-compatible API and /healthz.
EXPOSE 4590
# The image has no curl: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/trailwatch", "healthcheck", "--url", "http://127.0.0.1:4590/healthz", "--timeout", "4s"]
ENTRYPOINT ["/trailwatch"]
# Listen on every interface of the container (the default, 127.0.0.1, is unreachable through -p);
# add flags with docker run ... trailwatch serve --listen 0.0.0.0:4590 --data /data --public-url URL ...
CMD ["serve", "--listen", "0.0.0.0:4590", "--data", "/data"]
