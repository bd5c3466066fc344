FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir .
COPY . .
RUN useradd --create-home eretraite && mkdir -p /data/media && chown eretraite /data/media
USER eretraite
EXPOSE 8000
CMD ["gunicorn", "eretraite.wsgi:application", "--bind", "0.0.0.0:8000"]
