"""Authentication and access control: who is calling, what they may touch, how often.

- `hashing`: scrypt for client secrets, SHA-256 for API keys
- `tokens`: the signing key and the signed (JWT, HS256) Bearer tokens
- `credentials`: applications and API keys, created, listed, revoked (API and CLI share them)
- `principal`: who a request runs as; `authenticate` turns an Authorization header into one
- `scope`: what a workspace-scoped credential may see and change, checked around every handler
- `ratelimit`: a token bucket per credential
- `middleware`, `headers`, `forms`: the ASGI layers that apply all of this to every request
- `exposure`: `sluice serve` refuses to listen off loopback with the default password
"""
