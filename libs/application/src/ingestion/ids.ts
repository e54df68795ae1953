/** Namespace of the deterministic event ids Reclaim derives (uuid v5). */
export const RECLAIM_ID_NAMESPACE = '5b0c8f8e-6a51-4d8e-9a57-2f3c1d0b7e11';
