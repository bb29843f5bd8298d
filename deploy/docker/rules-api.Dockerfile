# The rules API: `logflow api serve` under uvicorn, as a non-root user.
FROM python:3.11-slim

RUN useradd --system --uid 10001 --home-dir /opt/logflow logflow
WORKDIR /opt/logflow
COPY pyproject.toml constraints.txt README.md ./
COPY common ./common
COPY jobs ./jobs
COPY rules_api ./rules_api
COPY deploy/__init__.py ./deploy/__init__.py
COPY deploy/stack ./deploy/stack
RUN pip install --no-cache-dir -c constraints.txt . && chown -R logflow:logflow /opt/logflow

USER logflow
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["logflow", "api", "serve", "--host", "0.0.0.0", "--port", "8000"]
