# The worker image: the project installed with its runtime dependencies.
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY taskrunner ./taskrunner
COPY workflows ./workflows
COPY activities ./activities
COPY worker.py starter.py ./
RUN pip install --no-cache-dir .
ENV TASKRUNNER_DATA_DIR=/data
VOLUME ["/data"]
CMD ["python", "worker.py"]
