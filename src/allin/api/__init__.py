"""HTTP and WebSocket routers: parse, authorize, call a service, shape the response."""
