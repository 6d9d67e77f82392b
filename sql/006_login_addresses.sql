-- 006_login_addresses.sql -- the addresses each staff account has signed
-- in from (issue 9 A3).  The per-account failure limit of
-- POST /auth/password-login never locks the right password out from one
-- of them; the failure counts themselves live in Redis (modules/auth).
CREATE TABLE login_addresses (
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    address     text NOT NULL CHECK (length(address) BETWEEN 1 AND 64),
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, address)
);

COMMENT ON COLUMN users.failed_logins IS
    'unused since 006: sign-in failures are counted in Redis per account and address';
COMMENT ON COLUMN users.locked_until IS
    'unused since 006: sign-in locks are kept in Redis per account and address';
