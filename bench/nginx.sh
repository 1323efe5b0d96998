# Sourced by the bench scripts: an nginx site in a private work directory.

# nginx_conf WORK LISTEN KEEPALIVE_REQUESTS
# Lets nginx's unprivileged workers read WORK/www (mktemp makes WORK
# private, and a 403 page is not the load to measure), then writes
# WORK/nginx.conf serving it on LISTEN.
nginx_conf() {
	local work=$1 listen=$2 keepalive=$3
	mkdir -p "$work/logs"
	chmod 755 "$work" "$work/www"
	chmod 644 "$work/www/"*
	cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests $keepalive;
    server { listen $listen; root $work/www; }
}
CONF
}

# nginx_wait URL: waits until nginx answers (5 s at most), then requires a
# 200.
nginx_wait() {
	local url=$1 status
	for _ in $(seq 50); do curl -s -o /dev/null "$url" && break; sleep 0.1; done
	status=$(curl -s -o /dev/null -w '%{http_code}' "$url")
	[ "$status" = 200 ] || { echo "nginx answers $status, not 200" >&2; exit 1; }
}
