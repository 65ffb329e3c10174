// The micro-cache key of tokenauth-microcache.conf: a SHA-256 of the Authorization
// header and the client address, so no raw credential reaches a cache key or file.
// Without an Authorization header the key is empty and nothing is cached.
const crypto = require('crypto');

function key(r) {
    const authorization = r.headersIn['Authorization'];
    if (!authorization) {
        return '';
    }
    return crypto.createHash('sha256')
        .update(authorization).update('\n').update(r.remoteAddress)
        .digest('hex');
}

export default { key };
