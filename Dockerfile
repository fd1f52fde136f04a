# One image for every process: web (gunicorn), Celery workers, beat and the migration job.
# The default build installs the CPU-only PyTorch wheels; the GPU worker image is the same
# file built with the CUDA wheel index:
#   docker build -t sofar/app:latest .
#   docker build -t sofar/app-gpu:latest --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .
# The CUDA wheels bring their own CUDA libraries; the host needs only the NVIDIA driver and
# the NVIDIA container runtime.
FROM python:3.11-slim-bookworm

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=sofar_site.settings.production \
    SOFAR_DATA_DIR=/var/lib/sofar \
    DJANGO_STATIC_ROOT=/app/staticfiles

# libgomp1: the OpenMP runtime of PyTorch's and ONNX Runtime's CPU kernels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --extra-index-url "$TORCH_INDEX_URL" -r requirements.txt

COPY . .
# Static files and translations are built into the image; the key only satisfies the
# production settings during the build and is never used at run time.
# Production settings refuse to load without a secret key; these build steps need none.
RUN DJANGO_SECRET_KEY=build-only python manage.py compiletranslations \
    && DJANGO_SECRET_KEY=build-only python manage.py collectstatic --no-input

RUN useradd --system --uid 10001 --home-dir /var/lib/sofar sofar \
    && mkdir -p /var/lib/sofar/cache/weights \
    && chown -R sofar /var/lib/sofar
USER sofar

EXPOSE 8000
CMD ["gunicorn", "sofar_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
