# CI only: a stand-in for the official `postgres:15` image on machines that cannot reach Docker
# Hub, built from the same local Debian base as the bot's image (.ci/docker-smoke). It honours
# what deploy/compose.yaml relies on: POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, the data
# directory /var/lib/postgresql/data, port 5432 and `pg_isready`.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# Debian's package would create a cluster of its own at install time; the entrypoint makes one.
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql

COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
VOLUME ["/var/lib/postgresql/data"]
ENTRYPOINT ["sh", "/usr/local/bin/postgres-entrypoint.sh"]
