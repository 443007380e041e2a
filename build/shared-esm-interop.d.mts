export function shareEsmInterop(code: string): string;
