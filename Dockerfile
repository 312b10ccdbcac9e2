# Yardstick on a small server: docker build -t yardstick . && docker run -p 8501:8501 -v yardstick-data:/app/data yardstick
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    YARDSTICK_DB=/app/data/yardstick.duckdb YARDSTICK_SECRETS=/app/data/secrets.toml

RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --create-home --uid 10001 yardstick && mkdir -p /app/data && chown -R yardstick /app/data
USER yardstick

# Student data, the raw files and the secrets file live in the volume, never in the image.
VOLUME ["/app/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8501/_stcore/health || exit 1

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
