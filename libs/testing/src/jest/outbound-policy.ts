/**
 * Unit and contract tests talk to stand-ins on 127.0.0.1: they opt into loopback and private
 * addresses explicitly (R22; the appliance itself refuses them unless ALLOW_PRIVATE_STORE_URLS).
 * Tests of the guard set their own policy.
 */
import { setOutboundPolicy } from '@reclaim/http';

setOutboundPolicy({ allowPrivate: true });
