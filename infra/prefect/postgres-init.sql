-- docker-compose.yml: the Traceo store lives next to Prefect's database on the same server.
-- In production give the store its own role (and usually its own server); see docs/regions.md.
CREATE DATABASE traceo;
