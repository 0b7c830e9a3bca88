/** The value the crash writer stores under a key: derived from the key, so the parent can check it. */
export const expectedValue = (key: string) => ({
  key,
  padding: "x".repeat(key.length * 7),
  at: new Date(key.length)
})
