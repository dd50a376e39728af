# roomchat server image: docker build -t roomchat . && docker run -p 6667:6667 roomchat
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package from the source tree, then drop the sources.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY chat_server ./chat_server
COPY chat_client ./chat_client
RUN pip install . && rm -rf /src

# An unprivileged user owning the data volume; the chat port needs no privilege.
RUN groupadd --system roomchat \
    && useradd --system --gid roomchat --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin roomchat \
    && mkdir -p /data/config/roomchat \
    && chown -R roomchat:roomchat /data

# Configuration, MOTD and history live in /data: the server finds
# /data/config/roomchat/roomchat.toml through XDG_CONFIG_HOME, or mount a file
# at /etc/roomchat/roomchat.toml; history is /data/roomchat.db.
ENV XDG_CONFIG_HOME=/data/config \
    ROOMCHAT_STORE_DATA_DIR=/data
VOLUME /data
WORKDIR /data
USER roomchat

EXPOSE 6667

# Open ports are not health: the server must answer a PING with its PONG, on the
# address its configuration gives (the file above, then ROOMCHAT_* variables).
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["python", "-m", "chat_server.ops.healthcheck"]

# In the foreground as PID 1: docker stop sends SIGTERM, which shuts down gracefully.
STOPSIGNAL SIGTERM
CMD ["chat-server", "--host", "0.0.0.0"]
