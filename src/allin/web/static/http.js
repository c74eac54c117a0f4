// Allin's REST API from the browser: JSON in and out, the session's bearer token, and failures as
// ApiError (the server's `{"error", "detail"}`).

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

// `token()` is the session's token (null when logged out); `expired()` is called when the server
// refuses it, at most once per session.
export function createApi({ token, expired }) {
  return async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && token()) expired();
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new ApiError(response.status, error.error, error.detail);
    }
    return response.status === 204 ? null : response.json();
  };
}
