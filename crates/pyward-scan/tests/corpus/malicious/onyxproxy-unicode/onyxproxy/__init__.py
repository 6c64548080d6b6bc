import base64

𝘦𝘹𝘦𝘤(𝘤𝘰𝘮𝘱𝘪𝘭𝘦("print('stand-in')", "<onyx>", "exec"))
