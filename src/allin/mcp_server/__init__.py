"""Allin inside the engineer's editor: an MCP server (Model Context Protocol, the official `mcp`
SDK) with tools to search the team's knowledge, ask Allin, open a cited source and use memories.

Served by the app at `/mcp` (Streamable HTTP, `http.py`) and by `allin mcp --stdio` for agents
that launch a local process (`stdio.py`); both authenticate with the same bearer tokens as the
REST API (a personal access token or a login token). Named `mcp_server`, not `mcp`, so nothing
here can shadow the SDK's own top-level package.
"""
