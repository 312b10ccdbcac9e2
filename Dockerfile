# Yardstick on a small server, behind a TLS reverse proxy on the same host (README, "Serving it
# to a school network"):
#   docker build -t yardstick .
#   docker run -d --name yardstick --restart unless-stopped -p 127.0.0.1:8501:8501 \
#     -e YARDSTICK_SECURE_COOKIE=1 -v yardstick-data:/app/data yardstick
# Published on 127.0.0.1 only: the proxy is the one way in, so nobody reaches plain HTTP.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    YARDSTICK_DB=/app/data/yardstick.duckdb YARDSTICK_SECRETS=/app/data/secrets.toml

RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# A non-root account owns the data; the data folder is 0700 (a new volume copies that mode), and
# Yardstick creates every file in it 0600 whatever the umask (core/warehouse/private_files.py).
RUN useradd --create-home --uid 10001 yardstick && mkdir -p /app/data \
    && chown yardstick /app/data && chmod 0700 /app/data
USER yardstick

# Student data, the raw files and the secrets file live in the volume, never in the image.
VOLUME ["/app/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8501/_stcore/health || exit 1

# 0.0.0.0 is the container's own interface (Docker's port mapping reaches nothing else); the
# host decides who may connect with `-p 127.0.0.1:8501:8501`. .streamlit/config.toml comes along:
# no tracebacks in the browser (showErrorDetails = "none"), XSRF protection, the upload limit.
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
