# One image for every part: `facerec compute`, `facerec frontend`, `facerec serve`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FACEREC_DATA_DIR=/data \
    FACEREC_CACHE_DIR=/cache

WORKDIR /app
COPY pyproject.toml README.md ./
COPY protos ./protos
COPY compute ./compute
COPY index ./index
COPY frontend ./frontend
RUN pip install .

RUN useradd --create-home --uid 10001 facerec && mkdir -p /data /cache \
    && chown facerec /data /cache
USER facerec
VOLUME ["/data", "/cache"]
EXPOSE 50051 8080
ENTRYPOINT ["facerec"]
CMD ["serve", "--http-host", "0.0.0.0"]
