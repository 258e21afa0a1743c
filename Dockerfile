# One image for the Python services: ground, spacecraft mock and dashboard (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p mission ground spacecraft_mock dashboard lupex mqtt_io \
    && for p in mission ground spacecraft_mock dashboard lupex mqtt_io; do touch $p/__init__.py; done \
    && pip install . && pip uninstall -y lupex-ground-mock
COPY . .
# Editable, so seeds/ and deploy/ next to the packages are found as in a checkout.
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 lupex \
    && mkdir -p /data && chown lupex /data
USER lupex
EXPOSE 8000 8501
ENTRYPOINT ["lupex"]
CMD ["--help"]
