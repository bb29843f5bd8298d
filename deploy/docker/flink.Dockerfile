# Flink image for logflow: the official Flink 2.2 image plus Python 3.11 (the project's version), PyFlink (pinned), the Kafka
# connector and this package, so the job's Python environment is what the TaskManager runs.
ARG FLINK_IMAGE=flink:2.2.1-scala_2.12-java17
FROM ${FLINK_IMAGE}

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends software-properties-common \
 && (apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev \
     || (add-apt-repository -y universe && apt-get update \
         && apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev)) \
 && apt-get install -y --no-install-recommends build-essential maven \
 && rm -rf /var/lib/apt/lists/*

# The connector comes from Maven Central through the same pom the native stack uses.
COPY deploy/maven/flink-connector/pom.xml /tmp/connector/pom.xml
RUN mvn -q -B -f /tmp/connector/pom.xml dependency:copy-dependencies -DoutputDirectory=/tmp/connector/jars \
 && mkdir -p /opt/logflow/.logflow/cache/jars \
 && cp /tmp/connector/jars/flink-sql-connector-kafka-*.jar /opt/logflow/.logflow/cache/jars/flink-sql-connector-kafka.jar \
 && rm -rf /tmp/connector /root/.m2

WORKDIR /opt/logflow
COPY pyproject.toml constraints.txt README.md ./
COPY common ./common
COPY jobs ./jobs
COPY rules_api ./rules_api
COPY deploy/__init__.py deploy/native.py ./deploy/
COPY deploy/stack ./deploy/stack
# The parsers and the rule engine are compiled with mypyc (deploy/native.py) in the source tree,
# which is installed in editable mode so that the extension modules are imported in place of their
# sources.
RUN python3.11 -m venv /opt/logflow/.venv \
 && /opt/logflow/.venv/bin/pip install --no-cache-dir -c constraints.txt -e . mypy \
 && /opt/logflow/.venv/bin/python -m deploy.native build \
 && rm -rf /opt/logflow/build \
 && chown -R flink:flink /opt/logflow

# LOGFLOW_HOME holds the connector at its contracted path, where `logflow job submit` looks for it.
ENV PATH=/opt/logflow/.venv/bin:$PATH \
    LOGFLOW_HOME=/opt/logflow/.logflow
USER flink
